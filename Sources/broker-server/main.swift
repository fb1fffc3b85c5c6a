print("broker-server: not yet")
