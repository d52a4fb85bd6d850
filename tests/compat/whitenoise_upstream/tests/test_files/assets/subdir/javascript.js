var myFunction = {
  return 42;
};
