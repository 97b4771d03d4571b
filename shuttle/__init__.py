"""Plan a district bus shuttle: road network, stops, routes, timetable, GTFS and a public map."""

__version__ = "0.1.0"
