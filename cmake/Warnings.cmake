# Our own code is built with a strict warning set everywhere. Warnings become errors only
# when SECCHATS_WERROR is ON (our CMake presets and CI turn it on): a packager's plain
# `cmake -DCMAKE_BUILD_TYPE=Release` build must not fail on a newer compiler's new or
# false-positive diagnostics (g++ 12's -Wrestrict at -O3, for one).
option(SECCHATS_WERROR "Treat compiler warnings in our own code as errors (on in the presets)" OFF)

function(secchats_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wformat=2)
  if(SECCHATS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(SECCHATS_FUZZ)
  # libFuzzer builds: every library gets coverage instrumentation (fuzzer-no-link) plus
  # ASan+UBSan; only the fuzz targets themselves link the libFuzzer runtime (fuzz/).
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SECCHATS_FUZZ needs clang (libFuzzer); use the 'fuzz' preset")
  endif()
  # -fsanitize=function is off: clang 14 cannot emit its prologue data for split coroutines
  # ("Cannot represent a difference across sections").
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SECCHATS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
