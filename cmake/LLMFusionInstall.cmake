#===- LLMFusionInstall.cmake - install rules and exported targets ---------===#
#
# Two export sets, so that a consumer of the MLIR-free runtime never needs
# MLIR: LLMFusionRuntimeTargets (Runtime, Kernels, CudaBackend) and
# LLMFusionMLIRTargets (IR, Passes, Translate, Pipeline). Headers install
# under include/llm-fusion/ with the paths the sources use ("runtime/Plan.h",
# "passes/Passes.h"), generated .inc files beside them.
#
#===----------------------------------------------------------------------===#

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LLM_FUSION_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/llm-fusion)
set(LLM_FUSION_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/LLMFusion)

# Installs library `target` as LLMFusion::<export_name> in `set`.
function(llm_fusion_install_library target export_name set)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  target_include_directories(${target} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}>
    $<INSTALL_INTERFACE:${LLM_FUSION_INSTALL_INCLUDEDIR}>)
  install(TARGETS ${target} EXPORT ${set}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  add_library(LLMFusion::${export_name} ALIAS ${target})
endfunction()

# Installs the public headers of source folder `dir` (relative to the root).
function(llm_fusion_install_headers dir)
  cmake_parse_arguments(ARG "" "" "FILES" ${ARGN})
  foreach(file ${ARG_FILES})
    get_filename_component(sub ${file} DIRECTORY)
    install(FILES ${PROJECT_SOURCE_DIR}/${dir}/${file}
      DESTINATION ${LLM_FUSION_INSTALL_INCLUDEDIR}/${dir}/${sub})
  endforeach()
endfunction()

# Called last from the top-level CMakeLists: the export files and the config.
function(llm_fusion_install_package)
  install(EXPORT LLMFusionRuntimeTargets NAMESPACE LLMFusion::
    DESTINATION ${LLM_FUSION_INSTALL_CMAKEDIR})
  if(LLM_FUSION_ENABLE_MLIR)
    install(EXPORT LLMFusionMLIRTargets NAMESPACE LLMFusion::
      DESTINATION ${LLM_FUSION_INSTALL_CMAKEDIR})
  endif()
  if(LLM_FUSION_ENABLE_MLIR)
    set(LLM_FUSION_CONFIG_HAS_MLIR ON)
  else()
    set(LLM_FUSION_CONFIG_HAS_MLIR OFF)
  endif()
  if(LLM_FUSION_HAVE_CUDA)
    set(LLM_FUSION_CONFIG_HAS_CUDA ON)
  else()
    set(LLM_FUSION_CONFIG_HAS_CUDA OFF)
  endif()
  configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/LLMFusionConfig.cmake.in
    ${PROJECT_BINARY_DIR}/cmake/LLMFusionConfig.cmake
    INSTALL_DESTINATION ${LLM_FUSION_INSTALL_CMAKEDIR}
    PATH_VARS LLM_FUSION_INSTALL_INCLUDEDIR)
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/cmake/LLMFusionConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES
    ${PROJECT_BINARY_DIR}/cmake/LLMFusionConfig.cmake
    ${PROJECT_BINARY_DIR}/cmake/LLMFusionConfigVersion.cmake
    DESTINATION ${LLM_FUSION_INSTALL_CMAKEDIR})
endfunction()
