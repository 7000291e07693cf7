# Warnings are errors everywhere in our own code.
function(secchats_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wformat=2)
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
