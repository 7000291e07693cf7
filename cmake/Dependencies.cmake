# Every dependency is a Debian 12 package installed by scripts/install-deps.
find_package(Threads REQUIRED)
# Boost 1.81 ships its own CMake config; CONFIG mode avoids FindBoost's version guessing.
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
find_package(CLI11 REQUIRED)
if(SECCHATS_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# Boost.Asio/Beast settings shared by every target that includes them.
add_library(secchats_asio INTERFACE)
target_link_libraries(secchats_asio INTERFACE Boost::boost Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
target_compile_definitions(secchats_asio INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
