// Topics module.
