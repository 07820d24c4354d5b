# SPDX-License-Identifier: MIT
# Writes prkl(1) with help2man: the synopsis and options from `prkl --help`, and a COMMANDS section
# with each command's own --help, so the page documents every option the tool has.
#   cmake -DPRKL=path/to/prkl -DHELP2MAN=help2man -DOUTPUT=prkl.1 -P man.cmake
set(commands init import-dump rates matrix market rank ports regions "batch validate" "batch apply"
             "batch show" "fx import" generate)
set(section "[COMMANDS]\n")
foreach(command IN LISTS commands)
  separate_arguments(words UNIX_COMMAND "${command}")
  execute_process(COMMAND ${PRKL} ${words} --help OUTPUT_VARIABLE help RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "prkl ${command} --help failed: ${status}")
  endif()
  # roff: a line starting with a dot or a quote would be read as a request.
  string(REGEX REPLACE "\n([.'])" "\n\\\\&\\1" help "${help}")
  string(APPEND section ".SS \"prkl ${command}\"\n.nf\n${help}.fi\n")
endforeach()
get_filename_component(dir "${OUTPUT}" DIRECTORY)
file(WRITE "${dir}/prkl-man-commands.h2m" "${section}")
execute_process(
  COMMAND ${HELP2MAN} --no-info --section=1 "--name=freight-rate data: rates, ports and price batches"
          --include=${dir}/prkl-man-commands.h2m --output=${OUTPUT} ${PRKL}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "help2man failed: ${status}")
endif()
