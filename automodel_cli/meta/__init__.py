"""Layer 5: models built on the meta device, what they told (cached), and load predictions. Beside source/ and repository/, never importing them."""
