print("svae-convert")
