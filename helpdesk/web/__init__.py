"""What every domain's views share: the actor, the clock, forms and labels."""
