def user_name(u)
  u.name.upcase
end
user_name(nil)
