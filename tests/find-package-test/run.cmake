# SPDX-License-Identifier: MIT
# Installs the built prkl into a scratch prefix, then builds and runs the consumer against it
# twice: through find_package(prkl), and through pkg-config with the compiler alone.
file(REMOVE_RECURSE ${WORK_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/../packaging/run.cmake)
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/prefix)
set(flags "")
if(SANITIZE)
  # A sanitized libprkl needs its runtime loaded first, so the consumer is sanitized too.
  set(flags "-fsanitize=address,undefined")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/find-package-test -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix "-DCMAKE_CXX_FLAGS=${flags}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)

# pkg-config: the installed prkl.pc, found from the prefix it was installed under.
set(ENV{PKG_CONFIG_PATH} ${WORK_DIR}/prefix/${LIBDIR}/pkgconfig)
execute_process(COMMAND pkg-config --modversion prkl OUTPUT_VARIABLE pc_version
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
if(NOT pc_version STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config says prkl ${pc_version}, the build is ${VERSION}")
endif()
execute_process(COMMAND pkg-config --cflags --libs prkl OUTPUT_VARIABLE pc_flags
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(sanitize_flags UNIX_COMMAND "${flags}")
run(${CXX} -std=c++20 ${sanitize_flags} ${SOURCE_DIR}/tests/find-package-test/main.cpp
    -o ${WORK_DIR}/consumer-pkg-config ${pc_flags})
run(${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${WORK_DIR}/prefix/${LIBDIR}
    ${WORK_DIR}/consumer-pkg-config)

# The installed Python package imports from the prefix, finding the installed libprkl.
if(PYTHON_DIR AND NOT SANITIZE)
  run(${CMAKE_COMMAND} -E env PYTHONPATH=${WORK_DIR}/prefix/${PYTHON_DIR}
      /usr/bin/python3 ${SOURCE_DIR}/tests/find-package-test/consumer.py ${WORK_DIR}/prefix)
endif()
