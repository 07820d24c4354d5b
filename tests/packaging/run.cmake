# SPDX-License-Identifier: MIT
# run(COMMAND...): runs a command from a CMake script and stops the script when it fails.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}")
  endif()
endfunction()
