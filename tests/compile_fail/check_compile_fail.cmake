# Compiles SRC, expects failure, and checks that the diagnostic is the one we promise:
# exactly one error, whose text (error line plus the note after it) contains every EXPECT string.
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -fno-diagnostics-color -I${INCLUDE_DIR} ${SRC}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
string(REPLACE ";" "," all "${all}")  # a semicolon would split the CMake list below
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled, but it must not")
endif()
string(REGEX MATCHALL "[^\n]*: error: [^\n]*" errors "${all}")
list(LENGTH errors n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected exactly one error, got ${n}: ${errors}")
endif()
list(GET errors 0 first)
string(FIND "${all}" "${first}" at)
string(SUBSTRING "${all}" ${at} 1200 around)
foreach(expect IN LISTS EXPECT)
  string(FIND "${around}" "${expect}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "the error does not mention '${expect}':\n${around}")
  endif()
endforeach()
message(STATUS "one error, as promised:\n${first}")
