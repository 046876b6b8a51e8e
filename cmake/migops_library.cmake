# migops_library(NAME <name> SOURCES ... DEPS ...)
# Declares the library migops::<name> for one top-level folder. Headers are
# included from the repository root ("events/envelope.h"); DEPS lists the
# only libraries the folder may use (DESIGN.md section 2).
set(MIGOPS_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wunused -Woverloaded-virtual -Wimplicit-fallthrough)

function(migops_warnings target)
  target_compile_options(${target} PRIVATE ${MIGOPS_WARNINGS})
  if(MIGOPS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(migops_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(migops_${ARG_NAME} STATIC ${ARG_SOURCES})
  add_library(migops::${ARG_NAME} ALIAS migops_${ARG_NAME})
  target_include_directories(migops_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(migops_${ARG_NAME} PUBLIC ${ARG_DEPS})
  migops_warnings(migops_${ARG_NAME})
endfunction()

# migops_allocator(<target>): the executable allocates with jemalloc, as
# RocksDB recommends: the engine's threads allocate and free many small
# strings and events, which glibc's malloc serves at a noticeably higher
# cost. Sanitizer builds keep their own allocator.
function(migops_allocator target)
  if(TARGET PkgConfig::JEMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
    target_compile_definitions(${target} PRIVATE MIGOPS_JEMALLOC=1)
  endif()
endfunction()
