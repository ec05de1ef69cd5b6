// The HTTP backend linked into the program (see common/http.h).
#include "common/http.h"

extern "C" const zflow::http::Backend* zflow_http_backend();

namespace zflow::http {

Result<const Backend*> LoadBackend() { return zflow_http_backend(); }

}  // namespace zflow::http
