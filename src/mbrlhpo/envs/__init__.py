"""mbrlhpo.envs"""
