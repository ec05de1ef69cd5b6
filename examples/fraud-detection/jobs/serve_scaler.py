"""Model server of the feature scaler (SageMaker serving contract: GET /ping, POST /invocations
on $SAGEMAKER_BIND_TO_PORT). CSV in: label,features...; CSV out: label,scaled features..."""
import os
import pickle
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

scaler = pickle.load(open(os.path.join(os.environ["SM_MODEL_DIR"], "scaler.pkl"), "rb"))


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
            scaled = scaler.transform(rows[:, 1:])
            text = "\n".join(",".join([str(int(r[0]))] + ["%.6f" % v for v in s])
                             for r, s in zip(rows, scaled))
            status = 200
        except Exception as e:  # a bad record is the caller's error, as a real container says
            text, status = "cannot transform the request: %s" % e, 400
        self.send_response(status)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(text.encode())


ThreadingHTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), Handler).serve_forever()
