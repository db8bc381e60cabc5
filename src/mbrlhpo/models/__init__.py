"""mbrlhpo.models"""
