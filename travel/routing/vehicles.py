"""What the route engine needs to know of a vehicle class: its top speed and, unless given, its dimensions."""

from __future__ import annotations

from travel.core.vehicle_classes import VehicleClass, VehicleKind
from travel.routing.profiles import VehicleProfile

# Top speeds by class (km/h) and GB 1589-2016 gross-mass limits by axles (t) for unstated dimensions.
TOP_SPEED = {1: 120.0, 2: 120.0, 3: 100.0, 4: 100.0, 11: 100.0, 12: 100.0}
TRUCK_SPEED, SPECIAL_SPEED = 90.0, 80.0
GROSS_MASS_T = {1: 4.5, 2: 18.0, 3: 25.0, 4: 31.0, 5: 43.0, 6: 49.0}
TRUCK_HEIGHT_M = 4.0


def profile_for(cls: VehicleClass, height_m: float | None = None, total_mass_t: float | None = None,
                axle_load_t: float | None = None) -> VehicleProfile:
    """Speeds and (unless given) legal maximum dimensions of a class, for speeds and restrictions."""
    if cls.kind is VehicleKind.PASSENGER:
        return VehicleProfile(vehicle_class=cls.code, max_speed_kmh=TOP_SPEED[cls.code], height_m=height_m,
                              total_mass_t=total_mass_t, axle_load_t=axle_load_t)
    speed = TOP_SPEED.get(cls.code, TRUCK_SPEED if cls.kind is VehicleKind.TRUCK else SPECIAL_SPEED)
    return VehicleProfile(vehicle_class=cls.code, max_speed_kmh=speed,
                          height_m=height_m if height_m is not None else TRUCK_HEIGHT_M,
                          total_mass_t=total_mass_t if total_mass_t is not None else GROSS_MASS_T[cls.rank],
                          axle_load_t=axle_load_t)
