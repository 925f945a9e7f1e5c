// Owner of a shared precompiled header (see cmake/coffer.cmake); compiles to nothing.
