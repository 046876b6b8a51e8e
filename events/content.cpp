#include "events/content.h"

namespace migops::events {

std::string_view to_string(criterion_kind k) {
    switch (k) {
        case criterion_kind::artifact:
            return "artifact";
        case criterion_kind::subtasks:
            return "subtasks";
        case criterion_kind::steps:
            return "steps";
        case criterion_kind::approval:
            return "approval";
        case criterion_kind::text:
            return "text";
    }
    return "";
}

bool parse(std::string_view s, criterion_kind& k) {
    for (auto c : {criterion_kind::artifact, criterion_kind::subtasks, criterion_kind::steps,
                   criterion_kind::approval, criterion_kind::text})
        if (to_string(c) == s) {
            k = c;
            return true;
        }
    return false;
}

}  // namespace migops::events
