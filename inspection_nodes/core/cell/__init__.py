"""The cell as a whole, for the runner and the launch file: which nodes and processes a params
file asks for (config), starting and stopping them as processes (launcher), and the report of a
batch run over a folder of images (report)."""
