"""Model server of the fraud classifier. CSV in: [label,]scaled features; CSV out: [label,]score."""
import os
import pickle
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

model = pickle.load(open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "rb"))
n_features = model.n_features_in_


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404)
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        try:
            rows = np.array([[float(v) for v in line.split(",")] for line in body.splitlines() if line])
            labelled = rows.shape[1] == n_features + 1
            scores = model.predict_proba(rows[:, 1:] if labelled else rows)[:, 1]
            lines = [("%d,%.6f" % (r[0], s)) if labelled else "%.6f" % s for r, s in zip(rows, scores)]
            text, status = "\n".join(lines), 200
        except Exception as e:
            text, status = "cannot score the request: %s" % e, 400
        self.send_response(status)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(text.encode())


ThreadingHTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), Handler).serve_forever()
