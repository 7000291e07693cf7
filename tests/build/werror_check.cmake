# Configures the source tree twice into scratch directories and checks who gets -Werror
# (issue 10 item 5): a packager's plain `cmake -DCMAKE_BUILD_TYPE=Release` must not (a newer
# compiler's warning must not break their build), our `default` preset must (CI and
# developers keep the code warning-clean). Configure only: nothing is compiled.
#
#   cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -DGENERATOR=<gen> -P werror_check.cmake
foreach(var SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "werror_check: ${var} is not set")
  endif()
endforeach()

# Configures with `args` into WORK_DIR/name; sets `out_var` to whether any compile command
# in its compile_commands.json has -Werror.
function(configure_and_scan name out_var)
  set(dir "${WORK_DIR}/${name}")
  file(REMOVE_RECURSE "${dir}")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${dir}" -G "${GENERATOR}" ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "werror_check: configuring ${name} failed (${rc}):\n${out}\n${err}")
  endif()
  if(NOT EXISTS "${dir}/compile_commands.json")
    message(FATAL_ERROR "werror_check: ${name} wrote no compile_commands.json")
  endif()
  file(READ "${dir}/compile_commands.json" commands)
  string(FIND "${commands}" "-Werror" at)
  string(FIND "${commands}" "-Wall" wall)
  if(wall EQUAL -1)
    message(FATAL_ERROR "werror_check: ${name} has no -Wall: the scan is not looking at our code")
  endif()
  if(at EQUAL -1)
    set(${out_var} FALSE PARENT_SCOPE)
  else()
    set(${out_var} TRUE PARENT_SCOPE)
  endif()
  file(REMOVE_RECURSE "${dir}")
endfunction()

configure_and_scan(packager packager_werror -DCMAKE_BUILD_TYPE=Release)
if(packager_werror)
  message(FATAL_ERROR "werror_check: a plain -DCMAKE_BUILD_TYPE=Release build compiles with "
                      "-Werror; warnings as errors belong to the presets (SECCHATS_WERROR)")
endif()

configure_and_scan(preset preset_werror --preset default)
if(NOT preset_werror)
  message(FATAL_ERROR "werror_check: the default preset does not compile with -Werror")
endif()
message(STATUS "werror_check: plain Release build has no -Werror; the default preset has it")
