# SPDX-License-Identifier: MIT
# Configures, builds and runs the add_subdirectory consumer in a scratch directory.
include(${CMAKE_CURRENT_LIST_DIR}/../packaging/run.cmake)
file(REMOVE_RECURSE ${WORK_DIR})
set(launcher "")
find_program(ccache ccache)
if(ccache)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${ccache})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/subproject-test -B ${WORK_DIR}
    -DPRKL_SOURCE_DIR=${SOURCE_DIR} ${launcher})
run(${CMAKE_COMMAND} --build ${WORK_DIR} -j 2)
run(${WORK_DIR}/consumer)
