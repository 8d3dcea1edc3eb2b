"""Tolls: JT/T 489-2019 vehicle classes, rates as data, dated toll-free notices and quotes between places."""
