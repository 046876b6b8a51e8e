# Writes OUTPUT: a C++ source defining `std::string_view NAMESPACE::FUNCTION()`
# that returns the text of INPUT, so that a file of the repository is compiled
# into the binary. Run with cmake -P; see api/CMakeLists.txt.
foreach(arg INPUT OUTPUT NAMESPACE FUNCTION)
  if(NOT DEFINED ${arg})
    message(FATAL_ERROR "embed_file.cmake needs -D${arg}=...")
  endif()
endforeach()
file(READ ${INPUT} content)
set(delimiter "migops_embed")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )${delimiter}\"")
endif()
get_filename_component(name ${INPUT} NAME)
file(WRITE ${OUTPUT} "// Generated from ${name} by cmake/embed_file.cmake.\n#include <string_view>\n\nnamespace ${NAMESPACE} {\nstd::string_view ${FUNCTION}();\nstd::string_view ${FUNCTION}() {\n    return R\"${delimiter}(${content})${delimiter}\";\n}\n}  // namespace ${NAMESPACE}\n")
