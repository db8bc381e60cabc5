# Finds a CBLAS for the core's GEMMs. Preferred: OpenBLAS from the `scipy-openblas32` wheel (what
# NumPy and SciPy ship; symbols prefixed scipy_cblas_*). Else any CBLAS via find_package(BLAS).
# Input:  OPENBLAS_DIR (the wheel's package directory), else asks Python.
# Output: interface target mbrlhpo_blas, OPENBLAS_LIBRARY_DIR, MBRLHPO_BLAS_NAME.
if(NOT OPENBLAS_DIR)
  if(NOT Python_EXECUTABLE)
    find_package(Python COMPONENTS Interpreter)
  endif()
  if(Python_EXECUTABLE)
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c
        "import importlib.util as u; s = u.find_spec('scipy_openblas32'); print(s.submodule_search_locations[0] if s else '')"
      OUTPUT_VARIABLE _ob_dir OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
  set(OPENBLAS_DIR "${_ob_dir}" CACHE PATH "Directory of the scipy_openblas32 wheel")
endif()
add_library(mbrlhpo_blas INTERFACE)
if(OPENBLAS_DIR AND EXISTS "${OPENBLAS_DIR}/lib/libscipy_openblas.so")
  set(OPENBLAS_LIBRARY_DIR "${OPENBLAS_DIR}/lib")
  target_include_directories(mbrlhpo_blas INTERFACE "${OPENBLAS_DIR}/include")
  target_link_libraries(mbrlhpo_blas INTERFACE "${OPENBLAS_DIR}/lib/libscipy_openblas.so")
  target_compile_definitions(mbrlhpo_blas INTERFACE MBRLHPO_BLAS_SCIPY_OPENBLAS=1)
  set(MBRLHPO_BLAS_NAME "scipy-openblas32")
else()
  find_package(BLAS REQUIRED)
  find_path(CBLAS_INCLUDE_DIR cblas.h REQUIRED)
  target_include_directories(mbrlhpo_blas INTERFACE "${CBLAS_INCLUDE_DIR}")
  target_link_libraries(mbrlhpo_blas INTERFACE ${BLAS_LIBRARIES})
  list(GET BLAS_LIBRARIES 0 _blas_first)
  get_filename_component(OPENBLAS_LIBRARY_DIR "${_blas_first}" DIRECTORY)
  set(MBRLHPO_BLAS_NAME "system CBLAS (${_blas_first})")
endif()
set(OpenBLASWheel_FOUND TRUE)
message(STATUS "mbrlhpo: BLAS ${MBRLHPO_BLAS_NAME}")
