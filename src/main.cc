#include "cli/cli.h"

int main(int argc, char** argv) { return coffer::cli::Run(argc, argv); }
