#include "api/cli.h"

int main(int argc, char** argv) {
    return migops::api::run_cli(argc, argv);
}
