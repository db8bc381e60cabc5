"""mbrlhpo.runner"""
