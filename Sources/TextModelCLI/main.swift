// textmodel: the command-line tool over the TextModel Swift API. This file only picks
// the subcommand; each subcommand is one file (see Command.swift for the registry).
#if canImport(Glibc)
import Glibc
#endif

exit(CommandLineTool.run(Array(CommandLine.arguments.dropFirst())))
