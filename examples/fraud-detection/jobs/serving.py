"""The SageMaker serving contract for a model server: GET /ping, POST /invocations on
127.0.0.1:$SAGEMAKER_BIND_TO_PORT. `serve(score)` answers each request with score(body); an
exception is the caller's error (400), as a real container reports a bad request."""
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(score, content_type="text/csv"):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200 if self.path == "/ping" else 404)
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            try:
                text, status = score(body), 200
            except Exception as e:
                text, status = "cannot handle the request: %s" % e, 400
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(text.encode())

    port = int(os.environ["SAGEMAKER_BIND_TO_PORT"])
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
