"""Start the inspection cell on a robot with ROS 2 installed.

    ros2 launch inspection_nodes cell.launch.py config:=/path/to/station.yaml

One launch_ros Node action per process: every node listed in the params file's `cell.nodes`
(default: every non-optional node of inspection_nodes.graph.NODES, the same table `inspection
run` uses) in its own process, except the groups of `cell.compose`, which share one
container_node process (no `name`: a name remap would rename every node in it).
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from inspection_nodes.core.cell.config import load_cell_config
from inspection_nodes.core.cell.launcher import NODE_ENV
from inspection_nodes.graph import CONTAINER_EXECUTABLE
from launch import LaunchDescription


def _nodes(context, *args, **kwargs):
    config_path = LaunchConfiguration("config").perform(context)
    namespace = LaunchConfiguration("namespace").perform(context)
    config = load_cell_config(config_path)
    env = {key: os.environ.get(key, value) for key, value in NODE_ENV.items()}
    common = dict(
        package="inspection_nodes",
        namespace=namespace,
        parameters=[config_path],
        output="screen",
        emulate_tty=True,
        additional_env=env,
    )
    return [
        Node(executable=group[0].executable, name=group[0].name, **common)
        if len(group) == 1
        else Node(
            executable=CONTAINER_EXECUTABLE, arguments=[spec.name for spec in group], **common
        )
        for group in config.processes
    ]


def generate_launch_description() -> LaunchDescription:
    default_config = os.path.join(
        get_package_share_directory("inspection_nodes"), "config", "bottle.yaml"
    )
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "config", default_value=default_config, description="station params YAML"
            ),
            DeclareLaunchArgument(
                "namespace", default_value="", description="namespace for every node of the cell"
            ),
            OpaqueFunction(function=_nodes),
        ]
    )
