# The ROS 2 PyPI wheels export CMake targets whose include directories name the machine that
# built them (/opt/python/cp311-cp311/...). After every find_package has run, rewrite that
# prefix to this interpreter's prefix so the generated C code compiles here.
set(_WHEEL_BUILD_PREFIX "/opt/python/cp311-cp311")

function(_inspection_fix_imported_includes)
  get_directory_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" IMPORTED_TARGETS)
  foreach(_t IN LISTS _targets)
    get_target_property(_inc ${_t} INTERFACE_INCLUDE_DIRECTORIES)
    if(_inc)
      string(REPLACE "${_WHEEL_BUILD_PREFIX}/include/python3.11" "${Python3_INCLUDE_DIRS}" _inc "${_inc}")
      string(REPLACE "${_WHEEL_BUILD_PREFIX}" "${INSPECTION_PYTHON_PREFIX}" _inc "${_inc}")
      set_target_properties(${_t} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_inc}")
    endif()
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _inspection_fix_imported_includes)
