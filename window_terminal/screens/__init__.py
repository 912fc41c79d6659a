"""One module per screen. Screens call the domain layer from workers, never SQL themselves."""
