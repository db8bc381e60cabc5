"""mbrlhpo.hpo"""
