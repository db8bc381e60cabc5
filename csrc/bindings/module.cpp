// The Python module mbrlhpo._core. Imported only by mbrlhpo/_native.py.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "mbrlhpo native core (C++17, MuJoCo 4.0, OpenBLAS, optional CUDA)";
  // mbrlhpo::Error -> ValueError: it always means bad input or a failed library call whose
  // message says what was expected.
  py::register_exception<mbrlhpo::Error>(m, "NativeError", PyExc_ValueError);
  mbrlhpo::CheckMuJoCoVersion();
  mbrlhpo::bindings::RegisterInfo(m);
  mbrlhpo::bindings::RegisterEnvs(m);
  mbrlhpo::bindings::RegisterPlanner(m);
  mbrlhpo::bindings::RegisterModelFile(m);
#ifdef MBRLHPO_BINDINGS_CUDA
  mbrlhpo::bindings::RegisterCudaPlanner(m);
#endif
}
