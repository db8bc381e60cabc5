"""mbrlhpo.planning"""
