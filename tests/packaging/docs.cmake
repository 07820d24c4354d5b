# SPDX-License-Identifier: MIT
# Builds the `docs` target and checks the reference has the public API's pages and none for
# prkl::detail.
include(${CMAKE_CURRENT_LIST_DIR}/run.cmake)
file(REMOVE_RECURSE ${BINARY_DIR}/docs/html)
run(${CMAKE_COMMAND} --build ${BINARY_DIR} --target docs)
foreach(page index.html classprkl_1_1Database.html classprkl_1_1Store.html structprkl_1_1Decimal.html)
  if(NOT EXISTS ${BINARY_DIR}/docs/html/${page})
    message(FATAL_ERROR "the API reference has no ${page}")
  endif()
endforeach()
file(GLOB internal ${BINARY_DIR}/docs/html/*detail*)
if(internal)
  message(FATAL_ERROR "the API reference documents internals: ${internal}")
endif()
