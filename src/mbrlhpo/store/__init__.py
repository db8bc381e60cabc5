"""mbrlhpo.store"""
