# Writes OUTPUT: a C++ source holding each *.json file of INPUT_DIR as a string,
# for engine/template_catalog.cpp.
set(body "// Generated from engine/templates by cmake/embed_templates.cmake.\n#include <string_view>\n#include <utility>\n#include <vector>\n\nnamespace migops::engine {\nextern const std::vector<std::pair<std::string_view, std::string_view>> builtin_template_sources;\nconst std::vector<std::pair<std::string_view, std::string_view>> builtin_template_sources = {\n")
file(GLOB INPUTS ${INPUT_DIR}/*.json)
list(SORT INPUTS)
foreach(input IN LISTS INPUTS)
  file(READ ${input} content)
  get_filename_component(name ${input} NAME)
  string(APPEND body "    {\"${name}\", R\"migops_json(${content})migops_json\"},\n")
endforeach()
string(APPEND body "};\n}  // namespace migops::engine\n")
file(WRITE ${OUTPUT} "${body}")
