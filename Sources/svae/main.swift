print("svae")
