# Finds the MuJoCo C library and headers shipped inside the `mujoco` Python wheel.
# Input:  MUJOCO_DIR (the wheel's package directory, containing include/ and libmujoco.so.X),
#         else asks Python where the `mujoco` package is (without importing it).
# Output: imported target mujoco::mujoco, MUJOCO_LIBRARY, MUJOCO_LIBRARY_DIR, MUJOCO_INCLUDE_DIR.
# The wheel ships only a versioned library (libmujoco.so.4.0.0) and no unversioned link, so the
# library is linked by its full path.
if(NOT MUJOCO_DIR)
  if(NOT Python_EXECUTABLE)
    find_package(Python COMPONENTS Interpreter REQUIRED)
  endif()
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c
      "import importlib.util as u; s = u.find_spec('mujoco'); print(s.submodule_search_locations[0] if s else '')"
    OUTPUT_VARIABLE _mj_dir OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(MUJOCO_DIR "${_mj_dir}" CACHE PATH "Directory of the mujoco wheel (include/, libmujoco.so.*)")
endif()
set(_mj_lib "${MUJOCO_DIR}/libmujoco.so.${MBRLHPO_MUJOCO_VERSION}")
if(NOT MUJOCO_DIR OR NOT EXISTS "${_mj_lib}" OR NOT EXISTS "${MUJOCO_DIR}/include/mujoco/mujoco.h")
  message(FATAL_ERROR
    "mbrlhpo needs MuJoCo ${MBRLHPO_MUJOCO_VERSION}: expected ${_mj_lib} and "
    "include/mujoco/mujoco.h under MUJOCO_DIR='${MUJOCO_DIR}'. "
    "Install it with `pip install mujoco==${MBRLHPO_MUJOCO_VERSION}` or pass -DMUJOCO_DIR=<dir>.")
endif()
file(STRINGS "${MUJOCO_DIR}/include/mujoco/mujoco.h" _mj_hdr REGEX "#define mjVERSION_HEADER")
string(REGEX MATCH "[0-9]+" _mj_hdr_version "${_mj_hdr}")
if(NOT _mj_hdr_version EQUAL 4000000)
  message(FATAL_ERROR "MuJoCo headers in ${MUJOCO_DIR} are version ${_mj_hdr_version}, "
                      "expected 4000000 (${MBRLHPO_MUJOCO_VERSION})")
endif()
set(MUJOCO_LIBRARY "${_mj_lib}")
set(MUJOCO_LIBRARY_DIR "${MUJOCO_DIR}")
set(MUJOCO_INCLUDE_DIR "${MUJOCO_DIR}/include")
if(NOT TARGET mujoco::mujoco)
  add_library(mujoco::mujoco SHARED IMPORTED)
  set_target_properties(mujoco::mujoco PROPERTIES
    IMPORTED_LOCATION "${MUJOCO_LIBRARY}"
    IMPORTED_SONAME "libmujoco.so.${MBRLHPO_MUJOCO_VERSION}"
    INTERFACE_INCLUDE_DIRECTORIES "${MUJOCO_INCLUDE_DIR}")
endif()
set(MuJoCoWheel_FOUND TRUE)
message(STATUS "mbrlhpo: MuJoCo ${MBRLHPO_MUJOCO_VERSION} at ${MUJOCO_DIR}")
