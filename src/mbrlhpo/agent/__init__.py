"""mbrlhpo.agent"""
