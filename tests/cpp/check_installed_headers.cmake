# ctest installed_headers_compile_alone: installs the build into a scratch prefix, checks that
# only consumer headers were installed (no kernel bodies, emulator or internal math), and runs the
# compiler on each installed header alone (-fsyntax-only), so that a consumer may include any one
# of them first.
#   cmake -DBUILD_DIR=... -DPREFIX=... -DCXX=... -DMUJOCO_INCLUDE=... -P check_installed_headers.cmake
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install into ${PREFIX} failed: ${err}")
endif()
file(GLOB_RECURSE headers RELATIVE ${PREFIX}/include ${PREFIX}/include/*.h)
list(LENGTH headers count)
if(count LESS 10)
  message(FATAL_ERROR "expected the consumer headers under ${PREFIX}/include, found ${count}")
endif()
# Internal headers must not be installed (the consumer API is cem_planner.h, tasks, env, ...).
foreach(h ${headers})
  if(h MATCHES "/kernels/|simt|plan_kernels\\.h|task_rewards\\.h|/rng\\.h|planner_math\\.h|test_tasks")
    message(FATAL_ERROR "internal header installed: ${h}")
  endif()
endforeach()
set(failed "")
foreach(h ${headers})
  string(MAKE_C_IDENTIFIER ${h} stem)
  set(tu ${PREFIX}/header_tu/${stem}.cpp)
  file(WRITE ${tu} "#include \"${h}\"\n")
  execute_process(COMMAND ${CXX} -std=c++17 -fsyntax-only -I${PREFIX}/include -I${MUJOCO_INCLUDE}
                          ${tu}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    list(APPEND failed ${h})
    message("${h} does not compile alone:\n${out}")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "installed headers that do not compile on their own: ${failed}")
endif()
message(STATUS "${count} installed headers, each compiles on its own")
