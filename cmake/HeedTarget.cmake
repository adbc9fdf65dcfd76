# heed_target_defaults(TARGET): the compile settings every heed-owned target shares.
function(heed_target_defaults target)
  target_compile_options(${target} PRIVATE ${HEED_WARNING_FLAGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
