# heed_target_defaults(TARGET): the compile settings every heed-owned target
# shares, and its include path. A target sees its own headers and the public
# headers of what it links, never the whole tree: the headers beside its
# sources are linked into build/include/TARGET/<path in the tree> and that
# directory is the target's PUBLIC include directory (PRIVATE for
# executables); headers under an `internal/` folder stay PRIVATE. So including
# a module one does not link fails to compile, and the module graph in
# docs/architecture.md is what CMake allows.
function(heed_target_defaults target)
  target_compile_options(${target} PRIVATE ${HEED_WARNING_FLAGS})
  get_target_property(type ${target} TYPE)
  get_target_property(sources ${target} SOURCES)
  set(public_root ${PROJECT_BINARY_DIR}/include/${target})
  set(private_root ${PROJECT_BINARY_DIR}/include/${target}.internal)
  set(dirs "")
  foreach(source ${sources})
    if(NOT IS_ABSOLUTE ${source})
      set(source ${CMAKE_CURRENT_SOURCE_DIR}/${source})
    endif()
    get_filename_component(dir ${source} DIRECTORY)
    cmake_path(IS_PREFIX PROJECT_SOURCE_DIR ${dir} NORMALIZE in_tree)
    if(in_tree)
      list(APPEND dirs ${dir})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES dirs)
  foreach(dir ${dirs})
    file(GLOB headers CONFIGURE_DEPENDS ${dir}/*.h)
    file(GLOB_RECURSE internal_headers CONFIGURE_DEPENDS ${dir}/internal/*.h)
    foreach(header ${headers})
      _heed_link_header(${header} ${public_root})
    endforeach()
    foreach(header ${internal_headers})
      _heed_link_header(${header} ${private_root})
    endforeach()
  endforeach()
  file(MAKE_DIRECTORY ${public_root} ${private_root})
  # Build-tree paths only: installed targets (the client library) name their
  # install include directory themselves.
  if(type STREQUAL "EXECUTABLE")
    target_include_directories(${target} PRIVATE ${public_root})
  else()
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${public_root}>)
  endif()
  target_include_directories(${target} PRIVATE ${private_root}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>)
endfunction()

# Links HEADER (a file in the source tree) into ROOT at its path in the tree.
function(_heed_link_header header root)
  file(RELATIVE_PATH relative ${PROJECT_SOURCE_DIR} ${header})
  set(link ${root}/${relative})
  if(NOT EXISTS ${link})
    get_filename_component(link_dir ${link} DIRECTORY)
    file(MAKE_DIRECTORY ${link_dir})
    file(CREATE_LINK ${header} ${link} SYMBOLIC)
  endif()
endfunction()

# heed_discover_isa_tests(TARGET): registers TARGET's tests once per ISA level,
# named "<level>/<test>" and run with HEED_ISA=<level>, which caps heed's
# kernels and oneDNN together. TARGET links heed_isa_test_main (not
# gtest_main): at a level above the CPU's it exits 77 and ctest reports the
# test as skipped, never failed. So every machine tests every level it has.
# One label per level ("isa_avx2"; `ctest -L isa` matches them all, as -L takes
# a regular expression): gtest_discover_tests flattens a list-valued property,
# and a second label would swallow the SKIP_RETURN_CODE that follows it.
set(HEED_ISA_LEVELS generic avx2 avx512 avx512_vnni avx512_bf16)
function(heed_discover_isa_tests target)
  target_link_libraries(${target} PRIVATE heed_isa_test_main)
  foreach(level ${HEED_ISA_LEVELS})
    gtest_discover_tests(${target} TEST_PREFIX "${level}/"
      PROPERTIES ENVIRONMENT "HEED_ISA=${level}" LABELS "isa_${level}"
      SKIP_RETURN_CODE 77)
  endforeach()
endfunction()
