import tempfile, numpy as np, pinfer

model = pinfer.Model("models/digits.onnx")
x = np.load("models/digits_test_images.npy")[0]
with tempfile.TemporaryDirectory() as tmp, \
        pinfer.Server(model, store=f"{tmp}/server", reveal="logits") as server:
    client = pinfer.Client(server, store=f"{tmp}/client")  # pins the server's TLS certificate
    client.register()
    result = client.infer(x)
    print("private prediction", result.prediction, "bit-exact:",
          np.array_equal(result.logits_ring, model.run_fixed_point(x, ring=True)))
