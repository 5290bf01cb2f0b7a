"""Layer 5: the source of the class that would load: read statically, from an imported class, or from repository code; forward contracts. Beside meta/ and repository/."""
