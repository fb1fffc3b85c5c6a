print("bus-cli: not yet")
