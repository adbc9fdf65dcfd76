# heed_target_defaults(TARGET): the compile settings every heed-owned target shares.
function(heed_target_defaults target)
  target_compile_options(${target} PRIVATE ${HEED_WARNING_FLAGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
endfunction()

# heed_discover_isa_tests(TARGET): registers TARGET's tests once per ISA level,
# named "<level>/<test>" and run with HEED_ISA=<level>, which caps heed's
# kernels and oneDNN together. TARGET links heed_isa_test_main (not
# gtest_main): at a level above the CPU's it exits 77 and ctest reports the
# test as skipped, never failed. So every machine tests every level it has.
set(HEED_ISA_LEVELS generic avx2 avx512 avx512_vnni avx512_bf16)
function(heed_discover_isa_tests target)
  target_link_libraries(${target} PRIVATE heed_isa_test_main)
  foreach(level ${HEED_ISA_LEVELS})
    gtest_discover_tests(${target} TEST_PREFIX "${level}/"
      PROPERTIES ENVIRONMENT "HEED_ISA=${level}" LABELS "isa;isa_${level}"
      SKIP_RETURN_CODE 77)
  endforeach()
endfunction()
