"""mbrlhpo.analysis"""
